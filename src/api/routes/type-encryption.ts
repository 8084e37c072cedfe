import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EncryptionSpecs } from '../../volumes/type-management.js';
import { ApiFault } from '../faults.js';
import * as schemas from '../schemas/types.js';
import { encryptionView } from '../views/types.js';
import { bodyObject, contextOf, sendEmpty, sendJson, validate, type Params, type RouteDeps } from './common.js';

const API = { api: true } as const;

/**
 * The body's encryption, key_size made an integer as Cinder does before storing it and
 * answering with the body it was given.
 */
function encryptionBody(req: FastifyRequest): { body: Record<string, unknown>; specs: EncryptionSpecs } {
  const body = { ...bodyObject(bodyObject(req.body).encryption) };
  if (body.key_size !== undefined && body.key_size !== null) body.key_size = Number.parseInt(String(body.key_size), 10);
  const specs: EncryptionSpecs = {
    ...(body.provider !== undefined ? { provider: String(body.provider) } : {}),
    ...(body.cipher !== undefined ? { cipher: body.cipher as string | null } : {}),
    ...(body.key_size !== undefined ? { keySize: body.key_size as number | null } : {}),
    ...(body.control_location !== undefined ? { controlLocation: body.control_location as 'front-end' | 'back-end' } : {}),
  };
  return { body, specs };
}

/** Cinder's volume_type_encryption extension: /types/{id}/encryption. */
export function registerTypeEncryptionRoutes(app: FastifyInstance, { storage }: RouteDeps): void {
  app.get<Params<'id'>>('/v3/types/:id/encryption', { config: API }, async (req, reply) => {
    return sendJson(reply, 200, encryptionView(await storage.getEncryption(contextOf(req), req.params.id)));
  });

  app.post<Params<'id'>>('/v3/types/:id/encryption', { config: API }, async (req, reply) => {
    validate(req, schemas.createEncryption, req.body);
    const { body, specs } = encryptionBody(req);
    const created = await storage.createEncryption(contextOf(req), req.params.id, specs);
    // Cinder answers with the body it was given and the ids it added to it.
    return sendJson(reply, 200, { encryption: { ...body, volume_type_id: created.volumeTypeId, encryption_id: created.encryptionId } });
  });

  app.get<Params<'id' | 'key'>>('/v3/types/:id/encryption/:key', { config: API }, async (req, reply) => {
    const shown = encryptionView(await storage.getEncryption(contextOf(req), req.params.id));
    if (!Object.hasOwn(shown, req.params.key)) {
      throw new ApiFault(404, `Volume type encryption for type ${req.params.id} does not exist.`);
    }
    return sendJson(reply, 200, { [req.params.key]: shown[req.params.key] });
  });

  // The last path segment names nothing: Cinder's update and delete act on the type's one encryption.
  app.put<Params<'id' | 'key'>>('/v3/types/:id/encryption/:key', { config: API }, async (req, reply) => {
    validate(req, schemas.updateEncryption, req.body);
    const { body, specs } = encryptionBody(req);
    await storage.updateEncryption(contextOf(req), req.params.id, specs);
    return sendJson(reply, 200, { encryption: body });
  });

  app.delete<Params<'id' | 'key'>>('/v3/types/:id/encryption/:key', { config: API }, async (req, reply) => {
    await storage.deleteEncryption(contextOf(req), req.params.id);
    return sendEmpty(reply, 202);
  });
}
