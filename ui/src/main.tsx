import '@mantine/core/styles.css';
import '@mantine/spotlight/styles.css';
import './app/app.css';

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { App } from './app/App';
import { createQueryClient, Providers } from './shell/Providers';
import { appInfoQuery } from './ipc/queries';
import { markOnce } from './perf';

markOnce('script-start');

const root = document.getElementById('root');
if (!root) {
  throw new Error('index.html has no #root element');
}

// Ask for app info now: the first screen needs it, and the answer comes back while React renders.
const queryClient = createQueryClient();
// A failure here shows where the info is used (its query reports it); nothing to do now.
queryClient.query(appInfoQuery).catch(() => undefined);

createRoot(root).render(
  <StrictMode>
    <Providers queryClient={queryClient}>
      <App />
    </Providers>
  </StrictMode>,
);
