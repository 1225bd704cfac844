/**
 * PDF through unpdf (pdf.js built for servers; text per page, no OCR). Each page's text becomes
 * paragraph blocks tagged with the page, so a citation names its page. Encrypted files are refused
 * by name rather than indexed as nothing.
 */
import { extractText, getDocumentProxy } from 'unpdf';
import { LoadError, TextBuilder, type ExtractedDocument } from './types.ts';

export async function loadPdf(bytes: Uint8Array): Promise<ExtractedDocument> {
  let pages: string[];
  try {
    // verbosity 0: pdf.js would print warnings on stdout, which is the stdio transport.
    const pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
    pages = (await extractText(pdf, { mergePages: false })).text;
    await pdf.destroy();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/password|encrypt/i.test(message) || (error instanceof Error && error.name === 'PasswordException')) throw new LoadError('the PDF is encrypted (password-protected); decrypt it first', 'encrypted');
    throw new LoadError(`not a readable PDF (${message})`, 'corrupt');
  }
  const builder = new TextBuilder();
  const spans: Array<{ page: number; start: number; end: number }> = [];
  pages.forEach((pageText, index) => {
    const page = index + 1;
    const before = builder.blocks.length;
    for (const paragraph of pageText.split(/\n[ \t]*\n/)) builder.add('paragraph', paragraph, { page });
    const added = builder.blocks.slice(before);
    const first = added[0];
    const last = added[added.length - 1];
    if (first && last) spans.push({ page, start: first.start, end: last.end });
  });
  return { text: builder.text, blocks: builder.blocks, format: 'pdf', pages: spans };
}
