import { type CSSVariablesResolver, createTheme } from '@mantine/core';

const systemFonts = 'system-ui, sans-serif';
const monoFonts = 'ui-monospace, monospace';

/**
 * System fonts only (the CSP allows no remote origin). Shades are chosen so white text on filled
 * controls, and dimmed text on the page, meet WCAG AA (4.5:1) in both colour schemes.
 */
export const theme = createTheme({
  fontFamily: systemFonts,
  fontFamilyMonospace: monoFonts,
  headings: { fontFamily: systemFonts },
  primaryColor: 'blue',
  primaryShade: { light: 8, dark: 8 },
  defaultRadius: 'sm',
  cursorType: 'pointer',
  focusRing: 'auto',
});

/** Contrast fixes for the light scheme: Mantine's defaults (gray.6 dimmed text, shade-6 text on tints) fall below 4.5:1. */
export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-placeholder': 'var(--mantine-color-gray-7)',
    // Text on "light" variants (alerts, light badges) defaults to shade 6: too pale on a tint.
    '--mantine-color-red-light-color': 'var(--mantine-color-red-9)',
    '--mantine-color-blue-light-color': 'var(--mantine-color-blue-9)',
    '--mantine-color-yellow-light-color': 'var(--mantine-color-yellow-9)',
    '--mantine-color-green-light-color': 'var(--mantine-color-green-9)',
    '--mantine-color-teal-light-color': 'var(--mantine-color-teal-9)',
  },
  dark: {
    '--mantine-color-dimmed': 'var(--mantine-color-dark-1)',
  },
});
