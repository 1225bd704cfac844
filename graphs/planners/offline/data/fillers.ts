/** Values the training phrasings' `{slot}` placeholders are filled with (varied, so names are not learned as intent words). */
export const FILLERS: Readonly<Record<string, readonly string[]>> = {
  model: ['intent', 'fraud', 'churn', 'sentiment', 'support-router', 'spam-filter', 'toxicity', 'lang-id', 'topic_v2', 'triage', 'ner-lite', 'faq-matcher'],
  dataset: ['banking77', 'support-tickets', 'intents-v2', 'snips', 'reviews-2024', 'feedback-march', 'emails_q3', 'chatlogs', 'claims-2025', 'tickets_de'],
  job: ['job-7f3a', 'job_81c2', 'c0a8e9f2-1b3d-4e5f-8a9b-0c1d2e3f4a5b', 'job-1207', '4d9e2c1a-77b0-4f5e-9d1c-2a3b4c5d6e7f', 'job-a91'],
  deployment: ['intent', 'fraud-prod', 'router', 'sentiment-api', 'triage-live', 'churn-scorer', 'spam'],
  kb: ['manpages', 'runbooks', 'hr-policies', 'product-docs', 'wiki', 'faq', 'onboarding'],
  percent: ['10%', '5%', '25%', '50 percent', '20 percent', '1%', '33%'],
  money: ['12.50 EUR', '$40', '€15', '1,200 USD', '500 yen', '£9.99', '30 euros', 'CHF 120', '7.25 dollars', 'KWD 1.250'],
  payment: ['pay_83kd', 'pay_1x9q', 'pi_77ab', 'pay_z2', '9b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d'],
  mandate: ['mdt_12', 'mandate_ops', 'mdt_9f', 'mandate_7'],
  approval: ['apr_31', 'apr_x7', 'approval_9', 'apr_2k'],
  path: ['data/tickets.csv', './exports/feedback.jsonl', 'uploads/intents.json', 'docs/runbook.md', 'manual.pdf', '/srv/data/claims.csv'],
  version: ['v3', 'v7', 'v12', 'v2', 'v5'],
  duration: ['30 minutes', '2 hours', '1 day', '15 min', '10m', '1 week'],
  query: ['tar flags', 'how to rotate keys', 'parental leave', 'refund policy', 'ssh tunnels', 'restarting the queue', 'gpu memory errors'],
  payee: ['acme', 'bob', 'vendor-42', 'openai', 'contoso', 'alice', 'agent-7'],
  currency: ['EUR', 'USD', 'GBP', 'JPY', 'euros', 'dollars'],
};
