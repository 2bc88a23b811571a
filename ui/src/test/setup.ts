import '@testing-library/jest-dom/vitest';

import { cleanup } from '@testing-library/react';
import { clearMocks } from '@tauri-apps/api/mocks';
import { afterEach } from 'vitest';

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

Element.prototype.scrollIntoView = function scrollIntoView() {
  // jsdom has no layout.
};

afterEach(() => {
  cleanup();
  clearMocks();
});
