/** The text of src/ipc/types.ts for this text of src/ipc/bindings.ts. */
export function render(bindings: string): string;
