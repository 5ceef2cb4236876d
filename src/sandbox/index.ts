/**
 * The local fake NemoVideo backend: real HTTP on 127.0.0.1, scripted SSE turns, fault injection and
 * streaming uploads and downloads, for tests, the demo and benchmarks.
 */
export { startSandbox } from "./server.js";
export type {
  AccountRecord,
  CreditBalance,
  RenderRecord,
  RenderStatus,
  RenderStatusStyle,
  SessionRecord,
  TokenRecord,
  UploadedFile,
} from "./state.js";
export { SandboxState } from "./state.js";
export type {
  EndpointName,
  Fault,
  FaultKind,
  RecordedRequest,
  Sandbox,
  SandboxOptions,
  TurnScript,
  TurnStep,
} from "./types.js";
