/**
 * The color scheme on <html> before React's first render, as Mantine's ColorSchemeScript sets it
 * (Providers.tsx: `defaultColorScheme="auto"`, the default local-storage manager). Mantine sets
 * the same attribute in a layout effect of its provider, which runs after the first layout of
 * the page (children's layout effects run first, and a table reads its box's size): without it
 * there already, that layout is done without the theme's colors and the whole page's styles are
 * computed again for the first frame. Setting the value it already has changes nothing.
 */
const STORAGE_KEY = 'mantine-color-scheme-value';

export function setColorSchemeEarly(root: HTMLElement = document.documentElement): void {
  let chosen: string | null = null;
  try {
    chosen = window.localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage not available: the default (auto).
  }
  const scheme = chosen === 'light' || chosen === 'dark' ? chosen : 'auto';
  const dark = scheme === 'dark' || (scheme === 'auto' && window.matchMedia('(prefers-color-scheme: dark)').matches);
  root.setAttribute('data-mantine-color-scheme', dark ? 'dark' : 'light');
}
