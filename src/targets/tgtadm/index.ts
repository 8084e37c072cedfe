import { registerTargetHelper } from '../registry.js';
import { TgtadmTargetHelper } from './helper.js';

registerTargetHelper('tgtadm', (ctx) => new TgtadmTargetHelper(ctx));

export { TgtadmTargetHelper };
