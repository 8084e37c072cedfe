/**
 * Parsers for tgtadm's human-readable "show" output, the only way tgtd reports its
 * state. Indentation is the structure: four spaces per level.
 */

export interface ShownNexus {
  sid: number;
  initiator: string;
  cids: number[];
}

export interface ShownLun {
  lun: number;
  type: string;
  backingPath: string | null;
}

export interface ShownTarget {
  tid: number;
  iqn: string;
  nexuses: ShownNexus[];
  luns: ShownLun[];
  accounts: string[];
  acl: string[];
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** Parses `tgtadm --lld iscsi --mode target --op show`. */
export function parseTargets(text: string): ShownTarget[] {
  const targets: ShownTarget[] = [];
  let target: ShownTarget | undefined;
  let section = '';
  let nexus: ShownNexus | undefined;
  let lun: ShownLun | undefined;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const line = raw.trim();
    const indent = indentOf(raw);
    const head = /^Target (\d+): (.+)$/.exec(line);
    if (indent === 0 && head) {
      target = { tid: Number(head[1]), iqn: head[2]!, nexuses: [], luns: [], accounts: [], acl: [] };
      targets.push(target);
      section = '';
      continue;
    }
    if (!target) continue;
    if (indent === 4) {
      section = line.replace(/:$/, '');
      nexus = undefined;
      lun = undefined;
      continue;
    }
    switch (section) {
      case 'I_T nexus information': {
        const n = /^I_T nexus: (\d+)$/.exec(line);
        if (n) {
          nexus = { sid: Number(n[1]), initiator: '', cids: [] };
          target.nexuses.push(nexus);
          break;
        }
        const init = /^Initiator: (\S+)/.exec(line);
        if (init && nexus) nexus.initiator = init[1]!;
        const conn = /^Connection: (\d+)$/.exec(line);
        if (conn && nexus) nexus.cids.push(Number(conn[1]));
        break;
      }
      case 'LUN information': {
        const l = /^LUN: (\d+)$/.exec(line);
        if (l) {
          lun = { lun: Number(l[1]), type: '', backingPath: null };
          target.luns.push(lun);
          break;
        }
        const type = /^Type: (.+)$/.exec(line);
        if (type && lun) lun.type = type[1]!;
        const path = /^Backing store path: (.+)$/.exec(line);
        if (path && lun) lun.backingPath = path[1] === 'None' ? null : path[1]!;
        break;
      }
      case 'Account information':
        // Outgoing (mutual CHAP) accounts are listed as "name (outgoing)"; only incoming ones are ours.
        if (!line.endsWith('(outgoing)')) target.accounts.push(line);
        break;
      case 'ACL information':
        target.acl.push(line);
        break;
    }
  }
  return targets;
}

/** Parses `tgtadm --lld iscsi --mode portal --op show` into host:port strings. */
export function parsePortals(text: string): string[] {
  const portals: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^Portal: (.+),\d+$/.exec(line.trim());
    if (m) portals.push(m[1]!);
  }
  return portals;
}
