/**
 * How the change lists page (GET /v1/shadow/changes and /diff): plain numbers, no zod, so that the
 * extension can use them without loading the protocol module at activation.
 */

/** How many changes a page holds unless asked for fewer or more, and at most. */
export const CHANGES_PAGE = 200;
export const MAX_CHANGES_PAGE = 1000;
/** A patch longer than this is cut (at a line end) and marked truncated: a page stays bounded. */
export const MAX_PATCH_BYTES = 64 * 1024;
/** The patch bytes a diff page holds unless asked for less (or more, up to MAX_DIFF_PAGE_BYTES). */
export const DIFF_PAGE_BYTES = 1024 * 1024;
export const MAX_DIFF_PAGE_BYTES = 8 * 1024 * 1024;
