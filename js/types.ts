// Shapes shared between the kernel (inference_nb/widget.py) and this front end.
// Keep in step with the Python side: a renamed trait fails silently otherwise.

/** The synced traits of `inference_nb.widget.ServerBadge`. */
export interface BadgeTraits {
  server_url: string;
  app_count: number;
  status: string;
}

/** Browser → kernel. */
export interface PingMessage {
  type: "ping";
  id: string;
}

/** Kernel → browser: the answer to a ping. */
export interface PongMessage {
  type: "pong";
  id: string;
  apps: string[];
}

/** Kernel → browser: a message it could not handle (id null if it had none). */
export interface ErrorMessage {
  type: "error";
  id: string | null;
  message: string;
}

export type KernelMessage = PongMessage | ErrorMessage;
