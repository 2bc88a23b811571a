/** Heights of the window's fixed parts, for content that must fit between them. */

/** The top bar (profile, palette, area title). */
export const HEADER_HEIGHT = 56;
/** The environment band across the top of the window. */
export const BAND_HEIGHT = 24;
/** The status bar at the bottom. */
export const FOOTER_HEIGHT = 30;
