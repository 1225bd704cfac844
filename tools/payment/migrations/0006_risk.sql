-- Risk scoring (docs/payments.md, Risk). A risk model is a deployment of the deployments plugin in
-- the same project; what payments keeps is, per evaluated model version, the thresholds chosen on
-- held-out data (approve below review, review below decline, decline above), and per project which
-- deployment scores its payments and what an unscored payment may do.
create table {{schema}}.risk_models (
  project            text not null,
  deployment         text not null,
  model              text not null,
  model_version      integer not null,
  review_threshold   double precision not null check (review_threshold between 0 and 1.01),
  decline_threshold  double precision not null check (decline_threshold between 0 and 1.01),
  pr_auc             double precision not null,
  -- rows, frauds, rates, cost per 1000 at the thresholds, the costs they were chosen with, the seeds.
  evaluation         jsonb not null,
  created_by         text not null,
  created_at         timestamptz not null default now(),
  check (review_threshold <= decline_threshold),
  primary key (project, deployment, model, model_version)
);

create table {{schema}}.risk_settings (
  project                text primary key,
  -- null: risk scoring is off for the project (payments are recorded "not-scored").
  deployment             text,
  -- {currency: minor units}: an unscored payment above this needs a person's approval (like review).
  unscored_review_above  jsonb not null default '{}'::jsonb,
  updated_by             text not null,
  updated_at             timestamptz not null default now()
);
