import type { AttachmentRecord } from '../../volumes/types.js';
import { naiveUtc } from './format.js';

export function attachmentSummary(attachment: AttachmentRecord) {
  return {
    id: attachment.id,
    status: attachment.attachStatus,
    instance: attachment.instanceUuid,
    volume_id: attachment.volumeId,
  };
}

export function attachmentDetail(attachment: AttachmentRecord) {
  return {
    ...attachmentSummary(attachment),
    // Unlike volumes, attachment views show a missing date as "".
    attached_at: attachment.attachTime ? naiveUtc(attachment.attachTime) : '',
    detached_at: attachment.detachTime ? naiveUtc(attachment.detachTime) : '',
    attach_mode: attachment.attachMode,
    connection_info: attachment.connectionInfo ?? {},
  };
}
