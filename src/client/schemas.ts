import { z } from "zod";

// Every schema is loose: unknown keys are ignored, and fields the contract marks as inferred are optional.

const num = z.coerce.number().finite();
const optionalString = z.string().optional().catch(undefined);

/** Response of POST /api/auth/anonymous-token. */
export const AnonymousTokenSchema = z.looseObject({
  token: z.string().min(1),
  user_id: optionalString,
  expires_at: optionalString,
  credits: num.optional().catch(undefined),
});
/** An anonymous token as the backend hands it out. */
export type AnonymousToken = z.infer<typeof AnonymousTokenSchema>;

/** Response of POST /api/tasks/me/with-session/nemo_agent. */
export const SessionSchema = z.looseObject({
  task_id: z.coerce.string(),
  session_id: z.coerce.string().min(1),
  user_id: optionalString,
});

/** Response of POST /api/auth/claim-token. */
export const ClaimTokenSchema = z.looseObject({
  claim_token: z.string().min(1),
  expires_in: num.optional().catch(undefined),
});

/** Response of GET /api/credits/balance/simple. */
export const CreditsSchema = z.looseObject({
  available: num.catch(0),
  frozen: num.catch(0),
  total: num.catch(0),
});
/** A credit balance as read from the backend. */
export type Credits = z.infer<typeof CreditsSchema>;

/** Response of GET /api/state/nemo_agent/me/<sid>/latest. */
export const StateSchema = z.looseObject({
  session_id: optionalString,
  task_id: z.coerce.string().optional().catch(undefined),
  task_name: optionalString,
  user_id: optionalString,
  state: z
    .looseObject({
      draft: z.unknown().optional(),
      video_infos: z.array(z.unknown()).optional().catch(undefined),
      canvas_config: z.unknown().optional(),
      generated_media: z.array(z.unknown()).optional().catch(undefined),
    })
    .optional()
    .catch(undefined),
});
/** A session's state before it is read into a timeline. */
export type RawState = z.infer<typeof StateSchema>;

/** One entry of the upload response's `files`. */
export const UploadedFileSchema = z.looseObject({
  filename: z.coerce.string(),
  file_type: optionalString,
  cdn_url: optionalString,
  duration: num.optional().catch(undefined),
  width: num.optional().catch(undefined),
  height: num.optional().catch(undefined),
  fps: num.optional().catch(undefined),
  hash: optionalString,
});

/** Response of POST /api/upload-video/nemo_agent/me/<sid>. */
export const UploadResponseSchema = z.looseObject({
  files: z.array(z.unknown()).catch([]),
  session_state_applied: z.boolean().optional().catch(undefined),
});

/** Response of POST /api/render/proxy/lambda. */
export const RenderSubmitSchema = z.looseObject({
  id: optionalString,
  taskId: optionalString,
  status: optionalString,
});

/** Response of POST /api/render/proxy/lambda/<id>/cancel. */
export const RenderCancelSchema = z.looseObject({
  id: optionalString,
  status: optionalString,
});

/** Render status in any of the three shapes the backend uses, after the envelope is removed. */
export const RenderStatusSchema = z.looseObject({
  status: z.string().catch("pending"),
  progress: num.optional().catch(undefined),
  output: z
    .looseObject({
      url: optionalString,
      duration: num.optional().catch(undefined),
      size: num.optional().catch(undefined),
    })
    .optional()
    .catch(undefined),
  outputUrl: optionalString,
  error: z.unknown().optional(),
  message: optionalString,
});
/** A render's status as the backend reports it. */
export type RenderStatus = z.infer<typeof RenderStatusSchema>;

/** Body of an error response, as far as it can be read. */
export const ErrorBodySchema = z.looseObject({
  code: num.optional().catch(undefined),
  message: z.unknown().optional(),
  msg: z.unknown().optional(),
  error: z.unknown().optional(),
});
