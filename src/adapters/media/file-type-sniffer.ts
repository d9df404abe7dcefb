import { fileTypeFromBuffer } from 'file-type';
import type { ContentSniffer, SniffedType } from '../../app/ports.js';

/** Magic-byte detection with the `file-type` library. */
export class FileTypeSniffer implements ContentSniffer {
  readonly headLength = 4100;

  async sniff(head: Uint8Array): Promise<SniffedType | null> {
    const type = await fileTypeFromBuffer(head);
    return type ? { mime: type.mime, ext: type.ext } : null;
  }
}
