import type { BlockStorage } from '../../volumes/service.js';
import type { RetypeRequest } from '../../volumes/type-management.js';
import * as schemas from '../schemas/types.js';
import type { ActionHandler } from './actions.js';
import { bodyObject, contextOf, sendEmpty, validate } from './common.js';

/** The os-retype volume action: the volume takes another type. */
export function retypeActions(storage: BlockStorage): Record<string, ActionHandler> {
  return {
    'os-retype': {
      async run(req, reply, id) {
        validate(req, schemas.retype, req.body);
        const args = bodyObject(bodyObject(req.body)['os-retype']);
        const policy = (args.migration_policy ?? null) as RetypeRequest['migrationPolicy'];
        await storage.retypeVolume(contextOf(req), id, { newType: String(args.new_type), migrationPolicy: policy });
        return sendEmpty(reply, 202);
      },
    },
  };
}
