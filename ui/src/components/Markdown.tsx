import { Code, Text } from '@mantine/core';
import ReactMarkdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';

/**
 * Markdown from a file (a runbook, a report; GitHub tables and task lists) rendered safely: raw HTML is dropped, images are not
 * fetched (their description is shown), and links are shown with their address instead of being
 * followed (the window has nowhere to go; the operator copies the address).
 */
const COMPONENTS: Components = {
  a: ({ href, children }) => (
    <span className="sy-md-link">
      {children}
      {href && href !== '' && (
        <>
          {' '}
          <Code>{href}</Code>
        </>
      )}
    </span>
  ),
  img: ({ alt }) => <span className="sy-md-image">{`[image${alt ? `: ${alt}` : ''}]`}</span>,
  pre: ({ children }) => <pre className="sy-md-pre">{children}</pre>,
};

const INLINE: Components = {
  ...COMPONENTS,
  p: ({ children }) => <>{children}</>,
};

/** Tables and task lists, as in the incident report. */
const GFM = [remarkGfm];

/** Only what the text says: no URL is ever loaded or navigated to. */
function keepText(url: string): string {
  return url;
}

interface MarkdownProps {
  children: string;
  /** Render a single paragraph without its <p> (for a check's label). */
  inline?: boolean;
  className?: string;
}

export function Markdown({ children, inline = false, className }: MarkdownProps) {
  const body = (
    <ReactMarkdown
      skipHtml
      remarkPlugins={GFM}
      components={inline ? INLINE : COMPONENTS}
      urlTransform={keepText}
    >
      {children}
    </ReactMarkdown>
  );
  if (inline) {
    return body;
  }
  return (
    <Text component="div" size="sm" className={`sy-md ${className ?? ''}`}>
      {body}
    </Text>
  );
}
