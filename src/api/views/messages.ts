import type { MessageRecord } from '../../volumes/types.js';
import type { Urls } from '../links.js';
import { naiveUtc } from './format.js';

/** Cinder's message view: resource_type and resource_uuid only when the message has them. */
export function messageView(message: MessageRecord, urls: Urls) {
  return {
    id: message.id,
    event_id: message.eventId,
    user_message: message.userMessage,
    message_level: message.level,
    created_at: naiveUtc(message.createdAt),
    guaranteed_until: naiveUtc(message.guaranteedUntil),
    request_id: message.requestId,
    links: urls.links(`messages/${message.id}`),
    ...(message.resourceType ? { resource_type: message.resourceType } : {}),
    ...(message.resourceUuid ? { resource_uuid: message.resourceUuid } : {}),
  };
}
