import { registerVolumeDriver } from '../registry.js';
import { FileVolumeDriver } from './driver.js';

registerVolumeDriver('file', (ctx) => new FileVolumeDriver(ctx));

export { FileVolumeDriver };
