/**
 * What the MCP App tests (the jobs, evaluation and deployment apps; ops_get's run app) check the
 * same way: a result that links its app, an app resource read as one self-contained document, a
 * read refused, and where a Chromium to draw the apps in is installed.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import vm from 'node:vm';
import type { Client } from '@modelcontextprotocol/client';
import type { Page } from 'playwright-core';
import { MCP_APP_MIME_TYPE } from 'anvil/plugin';

export type Row = Record<string, unknown>;

/** A tool result as an MCP App host sees it. */
export interface AppResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string; uri?: string; mimeType?: string }>;
  structuredContent?: Row;
  _meta?: { ui?: { resourceUri?: string } };
}

/** Debian's Chromium, which the browser legs drive with playwright-core; undefined skips them. */
export const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((candidate) => existsSync(candidate));

/** The `skip` of a browser leg: its reason where no Chromium is installed. */
export const needsChromium: string | false = chromiumPath ? false : 'no Chromium installed (/usr/bin/chromium)';

/** Runs `work` on a page of a headless Chromium (with the page errors seen so far), and closes the browser whatever happened. */
export async function withChromiumPage<T>(work: (page: Page, errors: string[]) => Promise<T>): Promise<T> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath as string, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    return await work(page, errors);
  } finally {
    await browser.close();
  }
}

export const SVG_NAMESPACE = 'http://www.w3.org/2000/svg';

/** The app link of a result: `_meta.ui.resourceUri` and the same URI as a `resource_link` block after the unchanged JSON text. */
export function appLinkOf(result: AppResult, prefix: string): string {
  const uri = result._meta?.ui?.resourceUri;
  assert.ok(uri !== undefined && uri.startsWith(prefix), `expected a link under ${prefix}, got ${uri}`);
  assert.deepEqual(JSON.parse(result.content[0]?.text ?? ''), result.structuredContent, 'the text still carries the same data');
  const link = result.content.find((block) => block.type === 'resource_link');
  assert.equal(link?.uri, uri);
  assert.equal(link?.mimeType, MCP_APP_MIME_TYPE);
  return uri;
}

/** Reads an app resource: one text content of the MCP App type. */
export async function readApp(client: Client, uri: string): Promise<string> {
  const read = await client.readResource({ uri });
  assert.equal(read.contents.length, 1);
  const [content] = read.contents;
  assert.equal(content?.mimeType, MCP_APP_MIME_TYPE);
  assert.ok(content && 'text' in content && typeof content.text === 'string');
  return content.text;
}

/** The error message of reading `uri`, or `read` when the read succeeded. */
export async function readRefusal(client: Client, uri: string): Promise<string> {
  return client.readResource({ uri }).then(
    () => 'read',
    (thrown: unknown) => (thrown instanceof Error ? thrown.message : String(thrown)),
  );
}

/** One HTML document whose scripts are closed and compile, with no URL but the SVG namespace and nothing loaded; returns its embedded JSON data. */
export function checkAppDocument(html: string): Row | undefined {
  assert.match(html, /^<!DOCTYPE html>\n<html lang="en"[^>]*>/);
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(html.split('<script').length - 1, scripts.length, 'every script is closed');
  let data: Row | undefined;
  for (const [, attributes, body] of scripts) {
    if (attributes?.includes('application/json')) data = JSON.parse(body as string) as Row;
    else new vm.Script(body as string, { filename: 'app.js' });
  }
  const urls = [...html.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"')]*/gi)].map((match) => match[0]).filter((url) => url !== SVG_NAMESPACE);
  assert.deepEqual(urls, [], 'no external URL');
  assert.doesNotMatch(html, /\b(src|href)\s*=/i, 'nothing loaded from anywhere');
  return data;
}
