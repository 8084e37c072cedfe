import type { CreatedTransfer, TransferRecord } from '../../volumes/transfers.js';
import type { Urls } from '../links.js';
import type { ApiVersion } from '../microversion.js';
import { naiveUtc } from './format.js';

// Cinder builds a transfer's links under os-volume-transfer whichever URL was asked.
const COLLECTION = 'os-volume-transfer';

export function transferSummaryView(transfer: TransferRecord, urls: Urls) {
  return { id: transfer.id, volume_id: transfer.volumeId, name: transfer.name, links: urls.links(`${COLLECTION}/${transfer.id}`) };
}

/** Show and detail; 3.55 adds no_snapshots, 3.57 where the volume came from and went. */
export function transferDetailView(transfer: TransferRecord, urls: Urls, version: ApiVersion) {
  return {
    id: transfer.id,
    created_at: naiveUtc(transfer.createdAt),
    name: transfer.name,
    volume_id: transfer.volumeId,
    links: urls.links(`${COLLECTION}/${transfer.id}`),
    ...(version.atLeast('3.55') ? { no_snapshots: transfer.noSnapshots } : {}),
    ...(version.atLeast('3.57')
      ? { destination_project_id: transfer.destinationProjectId, source_project_id: transfer.sourceProjectId, accepted: transfer.accepted }
      : {}),
  };
}

/** The detail view with the key, which no other answer carries. */
export function transferCreateView(transfer: CreatedTransfer, urls: Urls, version: ApiVersion) {
  const { links, ...detail } = transferDetailView(transfer, urls, version);
  return { ...detail, auth_key: transfer.authKey, links };
}
