import accessReviewFindings from './review-findings.js';
import offboardingDecide from './offboarding-decide.js';
import offboardingPlan from './offboarding-plan.js';
import type { AnyAppTool } from './types.js';

/** The tools only the in-chat views call (`_meta.ui.visibility: ["app"]`), registered for MCP Apps clients only. */
export const APP_TOOLS: AnyAppTool[] = [accessReviewFindings, offboardingPlan, offboardingDecide];
