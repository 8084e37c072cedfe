// INQUIRY data (SPC-4 6.6) and the vital product data pages this target implements.
// Only pages and bits that the logical unit really honours are advertised: initiators
// (QEMU in particular) switch features on from these pages.

export const VENDOR_ID = 'CINDERBK';
export const PRODUCT_ID = 'VOLUME';
export const PRODUCT_REVISION = '0001';

const PERIPHERAL_DISK = 0x00;
/** Peripheral qualifier 011b with device type 1Fh: no logical unit at this LUN. */
export const PERIPHERAL_NO_LUN = 0x7f;

const VERSION_SPC4 = 0x06;
const RESPONSE_DATA_FORMAT_2 = 0x02;
const HISUP = 0x10;
const CMDQUE = 0x02;
const STANDARD_LENGTH = 66;
// SAM-5, iSCSI (no version claimed), SPC-4, SBC-3
const VERSION_DESCRIPTORS = [0x00a0, 0x0960, 0x0460, 0x04c0];

export const VpdPage = {
  SUPPORTED_PAGES: 0x00,
  UNIT_SERIAL_NUMBER: 0x80,
  DEVICE_IDENTIFICATION: 0x83,
  BLOCK_LIMITS: 0xb0,
  BLOCK_DEVICE_CHARACTERISTICS: 0xb1,
  LOGICAL_BLOCK_PROVISIONING: 0xb2,
} as const;

export interface LuIdentity {
  serial: string;
  /** 32 hex digits, unique per logical unit. */
  deviceId: string;
  blockSize: number;
  /** log2(physical block size / logical block size). */
  physicalExponent: number;
  thin: boolean;
  maxTransferBlocks: number;
  maxCompareAndWriteBlocks: number;
  maxUnmapBlocks: number;
  maxUnmapDescriptors: number;
  maxWriteSameBlocks: number;
}

/** Where the command arrived: the target port designators of VPD 0x83. */
export interface PortIdentity {
  relativeTargetPort: number;
  /** iSCSI target port name ("<iqn>,t,0x<tpgt>"), when the transport knows it. */
  targetPortName?: string;
}

function ascii(buf: Buffer, offset: number, length: number, text: string): void {
  buf.fill(0x20, offset, offset + length);
  buf.write(text.slice(0, length), offset, 'latin1');
}

export function standardInquiry(): Buffer {
  const d = Buffer.alloc(STANDARD_LENGTH);
  d[0] = PERIPHERAL_DISK;
  d[2] = VERSION_SPC4;
  d[3] = HISUP | RESPONSE_DATA_FORMAT_2;
  d[4] = STANDARD_LENGTH - 5;
  d[7] = CMDQUE;
  ascii(d, 8, 8, VENDOR_ID);
  ascii(d, 16, 16, PRODUCT_ID);
  ascii(d, 32, 4, PRODUCT_REVISION);
  VERSION_DESCRIPTORS.forEach((v, i) => d.writeUInt16BE(v, 58 + 2 * i));
  return d;
}

/** Standard INQUIRY data for a LUN that has no logical unit behind it. */
export function noLunInquiry(): Buffer {
  const d = Buffer.alloc(36);
  d[0] = PERIPHERAL_NO_LUN;
  d[2] = VERSION_SPC4;
  d[3] = RESPONSE_DATA_FORMAT_2;
  d[4] = 36 - 5;
  ascii(d, 8, 8, VENDOR_ID);
  ascii(d, 16, 16, PRODUCT_ID);
  ascii(d, 32, 4, PRODUCT_REVISION);
  return d;
}

export function supportedVpdPages(id: LuIdentity): number[] {
  const pages: number[] = [
    VpdPage.SUPPORTED_PAGES,
    VpdPage.UNIT_SERIAL_NUMBER,
    VpdPage.DEVICE_IDENTIFICATION,
    VpdPage.BLOCK_LIMITS,
    VpdPage.BLOCK_DEVICE_CHARACTERISTICS,
  ];
  if (id.thin) pages.push(VpdPage.LOGICAL_BLOCK_PROVISIONING);
  return pages;
}

function page(code: number, body: Buffer): Buffer {
  const d = Buffer.alloc(4 + body.length);
  d[0] = PERIPHERAL_DISK;
  d[1] = code;
  d.writeUInt16BE(body.length, 2);
  body.copy(d, 4);
  return d;
}

function designator(codeSet: number, assocType: number, value: Buffer, protocolId = 0): Buffer {
  const d = Buffer.alloc(4 + value.length);
  d[0] = (protocolId << 4) | codeSet;
  d[1] = assocType;
  d[3] = value.length;
  value.copy(d, 4);
  return d;
}

const CODE_SET_BINARY = 1;
const CODE_SET_ASCII = 2;
const CODE_SET_UTF8 = 3;
const ASSOC_LU = 0x00;
const ASSOC_TARGET_PORT = 0x10;
const PIV = 0x80;
const PROTOCOL_ISCSI = 5;
const TYPE_T10_VENDOR = 1;
const TYPE_NAA = 3;
const TYPE_RELATIVE_TARGET_PORT = 4;
const TYPE_SCSI_NAME = 8;

/**
 * NAA 6 (IEEE Registered Extended) from the device id. The id is already unique per
 * volume, so its first nibble is replaced by the NAA type and the rest kept.
 */
export function naaDesignator(deviceId: string): Buffer {
  const bytes = Buffer.from(deviceId.padEnd(32, '0').slice(0, 32), 'hex');
  bytes[0] = 0x60 | (bytes[0] & 0x0f);
  return bytes;
}

export function vpdPage(code: number, id: LuIdentity, port: PortIdentity): Buffer | undefined {
  switch (code) {
    case VpdPage.SUPPORTED_PAGES:
      return page(code, Buffer.from(supportedVpdPages(id)));
    case VpdPage.UNIT_SERIAL_NUMBER:
      return page(code, Buffer.from(id.serial, 'latin1'));
    case VpdPage.DEVICE_IDENTIFICATION: {
      const parts = [
        designator(CODE_SET_BINARY, ASSOC_LU | TYPE_NAA, naaDesignator(id.deviceId)),
        designator(CODE_SET_ASCII, ASSOC_LU | TYPE_T10_VENDOR, Buffer.from(VENDOR_ID.padEnd(8) + id.deviceId, 'latin1')),
      ];
      const rtp = Buffer.alloc(4);
      rtp.writeUInt16BE(port.relativeTargetPort, 2);
      parts.push(designator(CODE_SET_BINARY, PIV | ASSOC_TARGET_PORT | TYPE_RELATIVE_TARGET_PORT, rtp, PROTOCOL_ISCSI));
      if (port.targetPortName) {
        // SCSI name strings are null-terminated and padded to a multiple of four bytes.
        const raw = Buffer.from(port.targetPortName, 'utf8');
        const name = Buffer.alloc((raw.length + 4) & ~3);
        raw.copy(name);
        parts.push(designator(CODE_SET_UTF8, PIV | ASSOC_TARGET_PORT | TYPE_SCSI_NAME, name, PROTOCOL_ISCSI));
      }
      return page(code, Buffer.concat(parts));
    }
    case VpdPage.BLOCK_LIMITS: {
      const b = Buffer.alloc(0x3c);
      b[1] = id.maxCompareAndWriteBlocks;
      b.writeUInt16BE(1 << id.physicalExponent, 2); // optimal transfer length granularity
      b.writeUInt32BE(id.maxTransferBlocks, 4);
      b.writeUInt32BE(id.maxTransferBlocks, 8); // optimal transfer length
      if (id.thin) {
        b.writeUInt32BE(id.maxUnmapBlocks, 16);
        b.writeUInt32BE(id.maxUnmapDescriptors, 20);
        b.writeUInt32BE(1 << id.physicalExponent, 24); // optimal unmap granularity
      }
      b.writeBigUInt64BE(BigInt(id.maxWriteSameBlocks), 32);
      return page(code, b);
    }
    case VpdPage.BLOCK_DEVICE_CHARACTERISTICS: {
      const b = Buffer.alloc(0x3c);
      b.writeUInt16BE(1, 0); // non-rotating medium
      return page(code, b);
    }
    case VpdPage.LOGICAL_BLOCK_PROVISIONING: {
      if (!id.thin) return undefined;
      const b = Buffer.alloc(4);
      // LBPU, LBPWS, LBPWS10; LBPRZ: deallocated blocks read back as zeroes.
      b[1] = 0x80 | 0x40 | 0x20 | 0x04;
      b[2] = 0x02; // thin provisioned
      return page(code, b);
    }
    default:
      return undefined;
  }
}
