/**
 * The styles of everything but the first screen (rest.css: Mantine's components the first screen
 * does not use, and the command palette's). Imported before an area or the palette is loaded
 * (App.tsx), so nothing renders unstyled; loaded once.
 */
import './rest.css';
