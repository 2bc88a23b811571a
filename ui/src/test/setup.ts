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

// Scrolling a box moves its scrollTop and fires `scroll`, as in the window, so keyboard moves
// (End, Page Down) bring the rows they go to into view. A virtual scroller's content is as tall
// as its rows say (the virtualized tables give each row, and the padding around them, a height).
const scrollHeight = Object.getOwnPropertyDescriptor(Element.prototype, 'scrollHeight');
Object.defineProperty(HTMLElement.prototype, 'scrollHeight', {
  configurable: true,
  get(this: HTMLElement): number {
    if (this.dataset.virtualScroller !== undefined) {
      let height = 0;
      for (const row of this.querySelectorAll<HTMLElement>('tr')) {
        height += Number.parseFloat(row.style.height) || 0;
      }
      return height;
    }
    return (scrollHeight?.get?.call(this) as number | undefined) ?? 0;
  },
});
const scrollTops = new WeakMap<Element, number>();
Object.defineProperty(Element.prototype, 'scrollTop', {
  configurable: true,
  get(this: Element): number {
    return scrollTops.get(this) ?? 0;
  },
  set(this: Element, top: number) {
    scrollTops.set(this, top);
  },
});
Element.prototype.scrollTo = function scrollTo(this: Element, options?: ScrollToOptions | number, y?: number) {
  const top = typeof options === 'number' ? y : options?.top;
  if (top !== undefined) {
    scrollTops.set(this, Math.max(0, top));
    this.dispatchEvent(new Event('scroll'));
  }
};

Element.prototype.scrollIntoView = function scrollIntoView() {
  // jsdom has no layout.
};

afterEach(() => {
  cleanup();
  clearMocks();
  // What one test remembered (the palette's recent actions, the health interval) is not the next one's.
  window.localStorage.clear();
});
