/** DOCX through mammoth (to HTML, then the HTML loader). Word files carry no pages: cite headings and offsets. */
import mammoth from 'mammoth';
import { htmlToDocument } from './html.ts';
import { LoadError, type ExtractedDocument } from './types.ts';

export async function loadDocx(bytes: Uint8Array): Promise<ExtractedDocument> {
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: Buffer.from(bytes) })).value;
  } catch (error) {
    throw new LoadError(`not a readable DOCX file (${error instanceof Error ? error.message : String(error)})`, 'corrupt');
  }
  return htmlToDocument(html, 'docx');
}
