import { afterEach, describe, expect, it } from 'vitest';

import { setColorSchemeEarly } from './colorScheme';

describe('setColorSchemeEarly', () => {
  afterEach(() => {
    window.localStorage.clear();
    document.documentElement.removeAttribute('data-mantine-color-scheme');
  });

  it('follows the system (light here) when the operator chose none, as Mantine does', () => {
    setColorSchemeEarly();
    expect(document.documentElement).toHaveAttribute('data-mantine-color-scheme', 'light');
  });

  it("keeps the scheme the operator chose (Mantine's stored choice)", () => {
    window.localStorage.setItem('mantine-color-scheme-value', 'dark');
    setColorSchemeEarly();
    expect(document.documentElement).toHaveAttribute('data-mantine-color-scheme', 'dark');
  });
});
