// provider_location in the LVM drivers' format, so the stored values read the same as
// Cinder's: "<portal>[;<portal>...],<tid> <iqn> <lun>".

export interface ProviderLocation {
  portals: string[];
  tid: string;
  iqn: string;
  lun: number;
}

export function formatProviderLocation(loc: ProviderLocation): string {
  return `${loc.portals.join(';')},${loc.tid} ${loc.iqn} ${loc.lun}`;
}

export function parseProviderLocation(value: string | null): ProviderLocation | null {
  if (!value) return null;
  const [portalPart, iqn, lun] = value.trim().split(/\s+/);
  if (!portalPart || !iqn) return null;
  const comma = portalPart.lastIndexOf(',');
  const portals = (comma >= 0 ? portalPart.slice(0, comma) : portalPart).split(';').filter(Boolean);
  const tid = comma >= 0 ? portalPart.slice(comma + 1) : '';
  return { portals, tid, iqn, lun: lun === undefined ? 0 : Number(lun) };
}
