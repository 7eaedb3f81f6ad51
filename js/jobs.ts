// For runs (the "runs" protocol): the function calls made so far, and the
// input requests a paused run waits for, with Approve and Reject.
import type { InputRequestView, JobView, RunView } from "./types";
import { h, syncKeyed } from "./dom";

export type Decide = (runId: string, request: InputRequestView, approved: boolean) => void;

export class JobsView {
  readonly el: HTMLElement;
  private readonly jobs = h("ul", { class: "inb-jobs", "aria-label": "Function calls" });
  private readonly requests = h("ul", { class: "inb-requests", "aria-label": "Waiting for you" });
  /** Requests answered here whose outcome has not come back yet. */
  private readonly sent = new Set<string>();
  private runId: string | null = null;

  constructor(private readonly decide: Decide) {
    this.el = h("div", { class: "inb-run-detail" }, this.requests, this.jobs);
  }

  update(run: RunView | null): void {
    const jobs = run?.kind === "run" ? run.jobs : [];
    const open = run?.kind === "run" ? run.input_requests.filter((r) => r.outcome === null) : [];
    this.runId = run?.id ?? null;
    this.el.hidden = jobs.length === 0 && open.length === 0;
    this.jobs.hidden = jobs.length === 0;
    this.requests.hidden = open.length === 0;
    syncKeyed(this.jobs, jobs, (j) => j.id, createJob, updateJob);
    syncKeyed(this.requests, open, (r) => r.id, (r) => this.createRequest(r), (node, r) => this.updateRequest(node, r));
  }

  /** The kernel refused an answer: let the person try again. */
  reopen(requestId: string): void {
    this.sent.delete(requestId);
    for (const node of Array.from(this.requests.children) as HTMLElement[]) {
      if (node.dataset.key === requestId) for (const button of node.querySelectorAll("button")) button.disabled = false;
    }
  }

  private createRequest(request: InputRequestView): HTMLElement {
    const approve = h("button", { type: "button", class: "inb-approve" }, "Approve");
    const reject = h("button", { type: "button", class: "inb-reject" }, "Reject");
    const answer = (approved: boolean) => {
      if (!this.runId) return;
      this.sent.add(request.id);
      approve.disabled = reject.disabled = true;
      this.decide(this.runId, request, approved);
    };
    approve.addEventListener("click", () => answer(true));
    reject.addEventListener("click", () => answer(false));
    return h("li", { class: "inb-request" },
      h("span", { class: "inb-request-text" }),
      h("span", { class: "inb-request-buttons" }, approve, reject));
  }

  private updateRequest(node: HTMLElement, request: InputRequestView): void {
    const text = node.querySelector(".inb-request-text") as HTMLElement;
    text.textContent = request.description || `${request.type} requested`;
    const waiting = this.sent.has(request.id) || request.jobId === null;
    for (const button of node.querySelectorAll("button")) button.disabled = waiting;
  }
}

function createJob(): HTMLElement {
  return h("li", { class: "inb-job" },
    h("code", { class: "inb-job-fn" }),
    h("span", { class: "inb-job-status" }),
    h("span", { class: "inb-job-type" }),
    h("span", { class: "inb-job-error" }));
}

function updateJob(node: HTMLElement, job: JobView): void {
  const [fn, status, type, error] = Array.from(node.children) as HTMLElement[];
  fn!.textContent = job.service ? `${job.service}.${job.targetFn}` : job.targetFn;
  status!.textContent = jobStatus(job);
  status!.dataset.status = job.status;
  type!.textContent = job.resultType && !refused(job) ? `→ ${job.resultType}` : "";
  error!.textContent = job.error ?? "";
  error!.hidden = !job.error;
}

function refused(job: JobView): boolean {
  return job.approvalRequested && job.approved === false;
}

function jobStatus(job: JobView): string {
  if (job.approvalRequested && job.approved === null) return `${job.status}, awaiting approval`;
  // The server ends a refused call "success" (the run went on without it): saying so read "success, rejected".
  if (refused(job)) return "rejected, not called";
  if (job.approvalRequested) return `${job.status}, approved`;
  return job.status;
}
