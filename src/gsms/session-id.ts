/**
 * MPSD session paths, as GSMS names the session a cluster is for.
 *
 * Two spellings exist in the sources: the REST reference writes `.../session/{name}` and XSAPI writes
 * `sessionTemplates` with a capital T. Every spelling of one session maps to one canonical key
 * (see docs/decisions.md, "Session spellings"): `/serviceconfigs/{scid lower-case}/sessiontemplates/{template}/sessions/{name}`.
 */
const SESSION_PATH =
  /^\/serviceconfigs\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/sessiontemplates\/([^/]+)\/sessions?\/([^/]+)$/i;

/** Longest session path we accept; MPSD names are short, and this bounds what we store and log. */
export const MAX_SESSION_PATH_LENGTH = 512;

export interface SessionPath {
  scid: string;
  template: string;
  name: string;
  /** The one spelling used as the session's key and sent upstream. */
  canonical: string;
}

/** Parses any accepted spelling of a session path; `null` when the text is not one. */
export function parseSessionPath(text: string): SessionPath | null {
  if (text.length > MAX_SESSION_PATH_LENGTH) return null;
  const match = SESSION_PATH.exec(text);
  if (!match) return null;
  const [, scidRaw, template, name] = match as unknown as [string, string, string, string];
  const scid = scidRaw.toLowerCase();
  return {
    scid,
    template,
    name,
    canonical: `/serviceconfigs/${scid}/sessiontemplates/${template}/sessions/${name}`,
  };
}
