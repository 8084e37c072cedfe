import { ApiFault, MALFORMED_REQUEST_MESSAGE } from './faults.js';

/** A negotiated Block Storage API microversion (3.X). */
export class ApiVersion {
  constructor(
    readonly major: number,
    readonly minor: number,
  ) {}

  static parse(text: string): ApiVersion {
    const match = VERSION_FORMAT.exec(text);
    if (!match) {
      throw new ApiFault(400, `API Version String ${text} is of invalid format. Must be of format MajorNum.MinorNum.`);
    }
    return new ApiVersion(Number(match[1]), Number(match[2]));
  }

  compare(other: ApiVersion): number {
    return this.major - other.major || this.minor - other.minor;
  }

  /** True when this version is at least `min` ("3.27"). */
  atLeast(min: string | ApiVersion): boolean {
    return this.compare(typeof min === 'string' ? minimum(min) : min) >= 0;
  }

  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

// Cinder's own pattern: no leading zeros, minor may be 0.
const VERSION_FORMAT = /^([1-9]\d*)\.([1-9]\d*|0)$/;

// The minimums routes and actions name are a handful of constants, checked on every request.
const minimums = new Map<string, ApiVersion>();
function minimum(text: string): ApiVersion {
  let version = minimums.get(text);
  if (!version) minimums.set(text, (version = ApiVersion.parse(text)));
  return version;
}

export const MIN_VERSION = new ApiVersion(3, 0);
/**
 * 3.70 is the newest microversion Cinder 21 (Zed) knows. Every change it and the
 * earlier ones make to volumes, volume types and attachments is implemented here;
 * resources this service does not have at all (snapshots, backups, groups,
 * transfers...) are missing at every version alike.
 */
export const MAX_VERSION = new ApiVersion(3, 70);
/** Date Cinder 21 gives its newest microversion in the version document. */
export const MAX_VERSION_UPDATED = '2022-08-31T00:00:00Z';

export const HEADER = 'openstack-api-version';
const SERVICE = 'volume';

// Clients send the same few headers again and again; the accepted ones are remembered
// (up to a bound, so odd headers cannot grow it without end).
const NEGOTIATED_LIMIT = 64;
const negotiated = new Map<string, ApiVersion>();

/**
 * Reads OpenStack-API-Version. An out-of-range version is still repeated in the
 * 406's headers, as Cinder does, so the fault carries it.
 */
export function negotiate(header: string | string[] | undefined): ApiVersion {
  if (header === undefined) return MIN_VERSION;
  if (typeof header === 'string') {
    const known = negotiated.get(header);
    if (known) return known;
    const version = parseHeader(header);
    if (negotiated.size < NEGOTIATED_LIMIT) negotiated.set(header, version);
    return version;
  }
  return parseHeader(header);
}

function parseHeader(header: string | string[]): ApiVersion {
  const joined = Array.isArray(header) ? header.join(',') : header;
  // Cinder's reading: the first comma-separated element that mentions the service.
  const element = joined
    .split(',')
    .map((part) => part.trim())
    .find((part) => part.toLowerCase().includes(SERVICE));
  const words = element?.split(/\s+/) ?? [];
  if (words.length !== 2 || words[0]!.toLowerCase() !== SERVICE) {
    throw new ApiFault(400, MALFORMED_REQUEST_MESSAGE);
  }
  const requested = words[1]!;
  if (requested.toLowerCase() === 'latest') return MAX_VERSION;
  const version = ApiVersion.parse(requested);
  if (version.compare(MIN_VERSION) < 0 || version.compare(MAX_VERSION) > 0) {
    throw new ApiFault(
      406,
      `Version ${version} is not supported by the API. Minimum is ${MIN_VERSION} and maximum is ${MAX_VERSION}.`,
      { echoVersion: version },
    );
  }
  return version;
}
