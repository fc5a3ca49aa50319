/**
 * CRC-32C (Castagnoli), the checksum of LevelDB tables and TensorFlow's tensor bundles, and the
 * "masked" form both store (a rotation plus a constant, so that a CRC of data holding CRCs is not
 * itself trivially related to them).
 */

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32C of `bytes`, continuing from `crc` (the CRC of what came before; 0 to start).
 *
 * @example crc32c(new TextEncoder().encode("123456789")) // 0xe3069283
 */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const MASK_DELTA = 0xa282ead8;

/** The masked CRC that LevelDB and TensorFlow store: `rotr(crc, 15) + 0xa282ead8`. */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/** Inverse of `maskCrc`. */
export function unmaskCrc(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}
