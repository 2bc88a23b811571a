import { MantineProvider } from '@mantine/core';
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { ErrorCode } from '../ipc/types';
import { toAppError } from '../ipc/errors';
import { ErrorNotice } from './ErrorNotice';
import { ERROR_TEXT } from './errorText';

describe('ErrorNotice', () => {
  it.each(Object.entries(ERROR_TEXT) as [ErrorCode, (typeof ERROR_TEXT)[ErrorCode]][])(
    'explains %s: what happened and the next step',
    (code, text) => {
      render(
        <MantineProvider env="test">
          <ErrorNotice error={{ code, message: `details for ${code}`, runbook: 'Common Issues and Solutions' }} />
        </MantineProvider>,
      );
      const alert = screen.getByRole('alert', { name: text.title });
      expect(alert).toHaveTextContent(`details for ${code}`);
      expect(alert).toHaveTextContent(`Next step: ${text.nextStep}`);
      expect(alert).toHaveTextContent('Runbook section: “Common Issues and Solutions”');
      expect(alert).toHaveTextContent(`Error code ${code}`);
    },
  );

  it('has no runbook line when the runbook field is absent (as the Rust side sends it)', () => {
    render(
      <MantineProvider env="test">
        <ErrorNotice error={{ code: 'RateLimited', message: 'slow down' }} />
      </MantineProvider>,
    );
    expect(screen.getByRole('alert')).toHaveTextContent('slow down');
    expect(screen.getByRole('alert')).not.toHaveTextContent('Runbook');
  });

  it('has no runbook line or retry button unless given', () => {
    render(
      <MantineProvider env="test">
        <ErrorNotice error={{ code: 'Unreachable', message: 'deploy.do did not answer', runbook: null }} />
      </MantineProvider>,
    );
    expect(screen.getByRole('alert')).not.toHaveTextContent('Runbook');
    expect(screen.queryByRole('button')).not.toBeInTheDocument();
  });
});

describe('toAppError', () => {
  it('accepts an AppError without a runbook field', () => {
    expect(toAppError({ code: 'Timeout', message: 'm' })).toEqual({ code: 'Timeout', message: 'm', runbook: null });
  });

  it('keeps an AppError as it is', () => {
    expect(toAppError({ code: 'Conflict', message: 'm', runbook: 'r' })).toEqual({
      code: 'Conflict',
      message: 'm',
      runbook: 'r',
    });
  });

  it('keeps every code the Rust side sends, ServerError and InvalidResponse included', () => {
    // A Deploy API 500 (ServerError) used to read as an unknown failure inside Switchyard.
    expect(toAppError({ code: 'ServerError', message: 'HTTP 500', runbook: 'Deployment Fails with 500 Error' })).toEqual({
      code: 'ServerError',
      message: 'HTTP 500',
      runbook: 'Deployment Fails with 500 Error',
    });
    expect(toAppError({ code: 'InvalidResponse', message: 'not JSON' }).code).toBe('InvalidResponse');
  });

  it('turns anything else into Internal', () => {
    expect(toAppError(new TypeError('x is undefined')).code).toBe('Internal');
    expect(toAppError({ code: 'Nope', message: 'm' }).code).toBe('Internal');
    expect(toAppError(42).message).toContain('unknown failure');
  });
});
