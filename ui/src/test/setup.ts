import '@testing-library/jest-dom/vitest';

import { cleanup, configure } from '@testing-library/react';
import { clearMocks } from '@tauri-apps/api/mocks';
import { afterEach } from 'vitest';

// findBy*/waitFor wait up to 5 s, not 1 s: on a loaded 2-core machine (a build running next to
// the tests) a first render with Mantine can take longer than a second.
configure({ asyncUtilTimeout: 5000 });

// jsdom lacks what Mantine expects of a browser.
Object.defineProperty(window, 'matchMedia', {
  writable: true,
  value: (query: string): MediaQueryList =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
      dispatchEvent: () => false,
    }) as unknown as MediaQueryList,
});

class ResizeObserverStub implements ResizeObserver {
  observe(): void {
    // jsdom has no layout.
  }
  unobserve(): void {
    // jsdom has no layout.
  }
  disconnect(): void {
    // jsdom has no layout.
  }
}
window.ResizeObserver = ResizeObserverStub;

// jsdom lays nothing out, so every element is 0 px tall. The deployments table's scroll box
// (marked data-virtual-scroller) gets a viewport height, so the virtualizer renders the rows that
// would be in view, as in the window.
export const VIRTUAL_VIEWPORT_HEIGHT = 600;
const clientHeight = Object.getOwnPropertyDescriptor(Element.prototype, 'clientHeight');
Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
  configurable: true,
  get(this: HTMLElement): number {
    if (this.dataset.virtualScroller !== undefined) {
      return VIRTUAL_VIEWPORT_HEIGHT;
    }
    return (clientHeight?.get?.call(this) as number | undefined) ?? 0;
  },
});

Element.prototype.scrollIntoView = function scrollIntoView() {
  // jsdom has no layout.
};

afterEach(() => {
  cleanup();
  clearMocks();
});
