// The entry: small on purpose. It asks for the first screen's data at once, then loads React
// and the app (./app/boot), whose parsing overlaps the IPC round trips; the first render finds
// the answers in the query cache.
import './app/styles/firstScreen.css';
import './app/app.css';

import { setColorSchemeEarly } from './app/colorScheme';
import { askFirstScreen } from './app/firstScreen';
import { markOnce } from './perf';

markOnce('script-start');
setColorSchemeEarly();

const data = askFirstScreen();

void import('./app/boot').then(({ boot }) => boot(data));
