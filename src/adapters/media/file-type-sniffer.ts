import { fileTypeFromBuffer } from 'file-type';
import type { ContentSniffer, SniffedType } from '../../app/ports.js';

/**
 * TIFF's magic numbers: little- and big-endian, classic (42) and BigTIFF (43). file-type follows a TIFF's first
 * directory to tell camera RAW formats apart, and gives up when that directory lies beyond the head it was given —
 * as it does in the TIFFs sharp and ffmpeg write, which put it at the end of the file.
 */
const TIFF_MAGIC = [Buffer.from([0x49, 0x49, 0x2a, 0x00]), Buffer.from([0x4d, 0x4d, 0x00, 0x2a]), Buffer.from([0x49, 0x49, 0x2b, 0x00]), Buffer.from([0x4d, 0x4d, 0x00, 0x2b])];

/** Magic-byte detection with the `file-type` library. */
export class FileTypeSniffer implements ContentSniffer {
  readonly headLength = 4100;

  async sniff(head: Uint8Array): Promise<SniffedType | null> {
    const type = await fileTypeFromBuffer(head);
    if (type) return { mime: type.mime, ext: type.ext };
    const magic = Buffer.from(head.buffer, head.byteOffset, Math.min(4, head.byteLength));
    if (TIFF_MAGIC.some((m) => m.equals(magic))) return { mime: 'image/tiff', ext: 'tif' };
    return null;
  }
}
