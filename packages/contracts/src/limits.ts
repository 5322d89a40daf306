// Size limits that keep every message far below the server's max_payload (1 MiB by default).

/** Raw command and query payloads above this are refused before parsing. */
export const MAX_COMMAND_BYTES = 256 * 1024;
/** Serialised task arguments above this are refused when the step is planned. */
export const MAX_TASK_ARGS_BYTES = 128 * 1024;
/** Task messages (body plus headers) stay under half of the default max_payload. */
export const MAX_TASK_MESSAGE_BYTES = 512 * 1024;
