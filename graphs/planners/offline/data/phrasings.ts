/**
 * The training phrasings of the offline planner's intent model, per intent. `{slot}` placeholders are
 * filled with varied values when train.jsonl is written (`npm run agent:train-planner`), so the
 * model learns the wording, not the names. Add an intent here (and its template in ../catalog.ts),
 * retrain, commit. The development set (dev.jsonl) is written separately, in other words.
 */
export const PHRASINGS: Readonly<Record<string, readonly string[]>> = {
  jobs_list: [
    'show me every job in the project', 'give me a list of jobs', 'what jobs do we have', 'summary of all jobs', 'which jobs are queued',
    'list my jobs', 'show all jobs', 'what jobs are running', 'which jobs failed', 'show the running jobs', 'list queued jobs',
    'what is in the job queue', 'any failed jobs today', 'show recent jobs', 'jobs overview', 'list the training jobs that succeeded', 'what is running right now',
  ],
  job_status: [
    'what is the status of job {job}', 'is {job} done', 'check on job {job}', 'how is {job} doing', 'did job {job} finish', 'state of {job}',
    'is that job finished', 'how is it going with job {job}', 'get job {job}', 'is the job still running', 'has {job} completed yet', 'progress of {job}',
  ],
  job_logs: [
    'show the logs of job {job}', 'tail the logs for {job}', 'print logs of {job}', 'what did {job} log', 'let me see the output of job {job}',
    'show me the last lines of {job} output', 'logs for that job', 'view log output for {job}', 'stdout of job {job}', 'give me the job logs',
  ],
  job_metrics: [
    'show the metrics of job {job}', 'plot the loss of {job}', 'what is the validation accuracy of job {job}', 'training curves for {job}',
    'loss curve of that job', 'how is the loss going on {job}', 'metrics for {job}', 'show val accuracy per epoch for {job}', 'learning curve of {job}',
  ],
  job_cancel: [
    'cancel job {job}', 'kill {job}', 'stop job {job}', 'abort {job}', 'cancel that job', 'stop the training job {job}', 'terminate {job}',
    'kill the job', 'please cancel {job} it is stuck', 'abort the running job {job}',
  ],
  job_explain: [
    'why is job {job} still queued', 'why is {job} pending', 'explain why {job} is not running', 'why has {job} not started', 'what is {job} waiting for',
    'why did {job} fail', 'explain job {job}', 'why is that job stuck', 'diagnose {job}', 'what went wrong with {job}',
  ],
  jobs_quota: [
    'what is my job quota', 'show the quota', 'how many gpus can I use', 'quota for this project', 'what are my limits on concurrent jobs',
    'check the project quota', 'how many jobs may I run at once', 'show gpu quota',
  ],
  workers_list: [
    'list the workers', 'which workers are online', 'show gpu workers', 'how many workers do we have', 'are any workers lost', 'show worker status',
    'what machines are connected', 'list active workers', 'is there a gpu worker available',
  ],
  anvil_status: [
    'is anvil healthy', 'server status', 'show the system status', 'is everything up', 'health check', 'how is the server doing',
    'status of the platform', 'is the database reachable', 'anvil status',
  ],
  whoami: [
    'who am I', 'which project am I in', 'what are my scopes', 'show my identity', 'what key am I using', 'what can I do with this key', 'whoami',
  ],
  plugins_list: [
    'list plugins', 'which plugins are enabled', 'show installed plugins', 'what plugins are loaded', 'plugin list', 'are there any plugins disabled',
  ],
  train_model: [
    'train {model} from scratch on {dataset}', 'start a new training of {model} on {dataset}', 'retrain {model} using {dataset}',
    'train a model on {dataset}', 'train {model} on {dataset}', 'retrain the {model} model', 'retrain {model} on the new data', 'start training on {dataset}',
    'fit a text classifier on {dataset}', 'kick off a training run for {model} using {dataset}', 'train a new version of {model}',
    'retrain {model} with {dataset}', 'launch training of {model}', 'train an intent classifier from {dataset} called {model}', 'build a model from {dataset}',
    'retrain it on the latest data', 'train it again', 'run a training job on dataset {dataset}',
  ],
  eval_run: [
    'how good is {model} on {dataset}', 'how well does {model} perform on {dataset}', 'score {model} on {dataset}', 'run the test set through {model}', 'what accuracy does {model} get on {dataset}', 'evaluate {model} {version} against {dataset}',
    'evaluate {model} on {dataset}', 'score the {model} model on the test split', 'run an evaluation of {model}', 'how accurate is {model} on {dataset}',
    'measure {model} against {dataset}', 'test {model} on {dataset}', 'evaluate model {model} version {version}', 'benchmark {model} on its test set',
    'evaluate it', 'compute accuracy of {model} on {dataset}',
  ],
  eval_compare: [
    'compare {model} with the champion', 'is the new {model} better than the champion', 'compare {model} {version} against the champion on {dataset}',
    'does the candidate beat the champion', 'compare the latest {model} to production', 'head to head {model} vs champion', 'compare it with the champion',
    'how does {model} {version} compare to the current champion', 'check if {model} beats the champion',
  ],
  eval_get: [
    'show the evaluation results', 'get evaluation {job}', 'what was the verdict of evaluation {job}', 'show the report of eval {job}', 'results of the comparison',
    'did the candidate win the comparison', 'show me eval {job}', 'open the evaluation report',
  ],
  eval_list: [
    'list the evaluations of {model}', 'which evaluations ran on {model}', 'show past evaluation results for {model}', 'evaluation history of {model}', 'what evaluations do we have for {model} {version}', 'show all eval runs of {model}', 'previous scores of {model}', 'list evals for {model}', 'how was {model} evaluated before'
  ],
  models_list: [
    'list the models', 'show all registered models', 'what models do we have', 'which models are in the registry', 'list versions of {model}',
    'show the model registry', 'what versions of {model} exist', 'models overview',
  ],
  model_get: [
    'tell me about model {model}', 'what do we know about the {model} model', 'show me {model} {version}', 'look up the model {model}', 'model details for {model}',
    'show model {model}', 'details of the {model} model', 'get {model} version {version}', 'what is the champion of {model}', 'describe model {model}',
    'show the model card of {model}', 'which version of {model} is champion', 'info on {model} {version}', 'show it',
  ],
  model_set_alias: [
    'promote {model} {version} to champion', 'set {version} as the champion of {model}', 'move the champion alias of {model} to {version}',
    'make {model} {version} the champion', 'set the champion alias of {model} to {version}', 'mark version {version} of {model} as champion',
    'point the {model} champion at {version}', 'alias {model} {version} as staging', 'tag {model} {version} as production', 'remove the staging alias from {model}',
    'make it the champion',
  ],
  alias_history: [
    'who moved the champion of {model}', 'alias history of {model}', 'when did the champion of {model} change', 'show the alias changes for {model}', 'who promoted {model} last time', 'history of the production alias on {model}', 'which versions of {model} were champion', 'audit trail of {model} aliases', 'list alias moves for {model}'
  ],
  datasets_list: [
    'list datasets', 'what datasets do we have', 'show all datasets', 'which data sets are registered', 'list versions of dataset {dataset}', 'datasets overview',
    'show me the data we have',
  ],
  dataset_get: [
    'how large is dataset {dataset}', 'show me some rows of {dataset}', 'size of {dataset}',
    'show dataset {dataset}', 'describe the {dataset} dataset', 'how many rows does {dataset} have', 'sample rows from {dataset}', 'what columns are in {dataset}',
    'show the label distribution of {dataset}', 'get {dataset} version {version}', 'peek at the {dataset} data',
  ],
  dataset_import: [
    'import {path} as {dataset}', 'load the file {path} into dataset {dataset}', 'register {path} as a new dataset called {dataset}', 'upload {path} as {dataset}',
    'create dataset {dataset} from {path}', 'add a new version of {dataset} from {path}', 'ingest {path} as training data named {dataset}',
  ],
  deployments_list: [
    'what is currently serving', 'list what we have deployed', 'which deployments exist', 'show me the live models', 'what is running in production',
    'list deployments', 'what is deployed', 'show all endpoints', 'which models are serving', 'show the deployments', 'what is in production',
    'list serving endpoints',
  ],
  deployment_get: [
    'show the status of the {deployment} deployment', 'what is the state of {deployment}', 'details of deployment {deployment}',
    'show deployment {deployment}', 'what version does {deployment} serve', 'describe the {deployment} deployment', 'traffic split of {deployment}',
    'how is {deployment} configured', 'what is the canary state of {deployment}', 'get the {deployment} endpoint',
  ],
  deploy_model: [
    'serve {model} {version} as {deployment}', 'create an endpoint for {model}', 'deploy model {model}',
    'deploy {model}', 'deploy {model} version {version}', 'serve the {model} model', 'create a deployment for {model}', 'put {model} into production',
    'deploy {model} as {deployment}', 'expose {model} behind an endpoint', 'ship {model} {version}', 'deploy the champion of {model}',
  ],
  set_traffic: [
    'send {percent} of {deployment} traffic to {version}', 'split traffic on {deployment} between {version} and {version}', 'route {percent} to {version} on {deployment}',
    'set the traffic of {deployment} to {percent} for version {version}', 'shift {percent} of traffic to the new version', 'move all traffic on {deployment} to {version}',
  ],
  canary_start: [
    'canary {version} on {deployment} at {percent}', 'roll {version} out to {percent} on the {deployment} deployment', 'start a canary at {percent} with {version}', 'put {version} on canary at {percent}', 'begin rolling out {version} to {percent} of {deployment}', 'canary release {version} to {percent} for {duration}',
    'roll out {model} to {percent}', 'start a canary of {version} on {deployment}', 'canary {version} at {percent}', 'roll it out to {percent}',
    'gradually roll out {version} on {deployment}', 'start a {percent} canary for {deployment}', 'canary the new version for {duration}',
    'roll out the candidate to {percent} of traffic', 'begin a canary release of {model} {version}', 'release it to {percent} of users',
  ],
  canary_approve: [
    'let the {deployment} canary continue', 'approve the canary step for {deployment}',
    'approve the canary on {deployment}', 'continue the canary of {deployment}', 'advance the rollout of {deployment}', 'let the canary proceed',
    'approve the next canary step', 'the canary looks good, go on', 'approve the rollout step on {deployment}',
  ],
  promote: [
    'promote the new version on {deployment}', 'roll the candidate out fully on {deployment}', 'make {version} the live version on {deployment}',
    'promote the canary on {deployment}', 'promote {version} on {deployment}', 'make the candidate live on {deployment}', 'finish the rollout of {deployment}',
    'send all traffic to the canary', 'promote it', 'go to 100% on {deployment}', 'complete the canary for {deployment}',
  ],
  rollback: [
    'roll back the {deployment} deployment', 'revert the canary on {deployment}', 'go back to the old version on {deployment}',
    'roll back {deployment}', 'rollback the canary on {deployment}', 'revert {deployment} to the previous version', 'undo the rollout of {deployment}',
    'abort the canary and go back', 'roll it back', 'the new version is bad, revert {deployment}', 'restore the stable version of {deployment}',
  ],
  monitor: [
    'what is the drift on {deployment}', 'show latency and errors for {deployment}', 'watch {deployment} for {duration}',
    'how is {deployment} doing', 'monitor {deployment}', 'show the drift of {deployment}', 'latency of {deployment}', 'error rate on {deployment}',
    'is {deployment} healthy', 'show predictions per second for {deployment}', 'check the guardrails of {deployment}', 'monitoring for {deployment} over {duration}',
  ],
  shadow: [
    'shadow {version} on {deployment}', 'mirror {percent} of {deployment} traffic to {version}', 'run {version} in shadow mode on {deployment}',
    'shadow test the candidate with {percent} of requests', 'send a shadow copy of traffic to {version}',
  ],
  feedback_dataset: [
    'turn the feedback of {deployment} into a dataset', 'build a dataset from {deployment} feedback', 'export the labelled feedback of {deployment}',
    'make a new dataset from the feedback we collected on {deployment}', 'collect feedback from {deployment} into {dataset}',
  ],
  feedback_stats: [
    'how much feedback does {deployment} have', 'count the labelled feedback on {deployment}', 'how many labels came back for {deployment}', 'feedback stats of {deployment}', 'has {deployment} received any feedback', 'how many predictions of {deployment} were labelled', 'when did the last feedback for {deployment} arrive', 'is there enough feedback on {deployment} to retrain', 'feedback count for {deployment}'
  ],
  deployment_delete: [
    'delete the deployment {deployment}', 'remove {deployment} entirely', 'tear down the {deployment} deployment', 'decommission {deployment}', 'delete {deployment}, we no longer need it', 'get rid of the {deployment} endpoint', 'drop the deployment {deployment}', 'shut down and delete {deployment}', 'remove the deployment'
  ],
  kb_list: [
    'list knowledge bases', 'which knowledge bases exist', 'show the kbs', 'what document collections do we have', 'list indexes',
  ],
  kb_create: [
    'create a knowledge base called {kb}', 'make a new kb {kb}', 'set up a knowledge base named {kb}', 'new document collection {kb}', 'create kb {kb}',
  ],
  kb_search: [
    'search {kb} for {query}', 'find documents about {query} in {kb}', 'look up {query} in the {kb} knowledge base', 'search the docs for {query}',
    'which pages of {kb} mention {query}', 'grep {kb} for {query}', 'find {query} in {kb}',
  ],
  kb_answer: [
    'using {kb}, {query}', 'question for {kb}: {query}',
    'ask {kb}: {query}', 'answer from {kb}: {query}', 'using the {kb} docs, {query}', 'according to {kb}, {query}', 'what does {kb} say about {query}',
    'answer the question {query} from the knowledge base',
  ],
  kb_ingest: [
    'ingest {path} into {kb}', 'add {path} to the {kb} knowledge base', 'index the document {path} in {kb}', 'upload {path} to {kb}', 'load {path} into kb {kb}',
  ],
  kb_delete: [
    'delete the knowledge base {kb}', 'drop kb {kb}', 'remove the {kb} knowledge base', 'get rid of {kb}', 'delete kb {kb} and all its documents',
  ],
  kb_reindex: [
    'reindex {kb}', 'rebuild the index of {kb}', 're-embed the {kb} knowledge base', 'refresh the embeddings of {kb}', 'reindex the kb {kb}',
  ],
  payments_list: [
    'list payments', 'show recent payments', 'which payments failed', 'show payments to {payee}', 'payments waiting for capture', 'list all transactions',
    'what payments are pending',
  ],
  payment_get: [
    'show the status of payment {payment}', 'where is payment {payment} at', 'check payment {payment}',
    'show payment {payment}', 'status of payment {payment}', 'did {payment} succeed', 'details of {payment}', 'what happened to payment {payment}',
    'look up {payment}',
  ],
  payment_create: [
    'pay {money} to {payee}', 'send {money} to {payee}', 'make a payment of {money} to {payee}', 'charge {money} for {payee}', 'transfer {money} to {payee}',
    'create a payment of {money} to {payee}', 'wire {money} to {payee}',
  ],
  payment_refund: [
    'refund payment {payment}', 'refund {money} of {payment}', 'give the customer their money back for {payment}', 'issue a refund on {payment}',
    'refund {payment} partially {money}', 'refund it', 'reverse payment {payment}',
  ],
  payment_cancel: [
    'cancel payment {payment}', 'void {payment}', 'cancel the pending payment {payment}', 'stop payment {payment}', 'cancel that payment',
  ],
  payment_capture: [
    'capture payment {payment}', 'capture {money} of {payment}', 'capture the authorised amount on {payment}', 'settle {payment}', 'capture it',
  ],
  payment_confirm: [
    'confirm payment {payment}', 'confirm {payment}', 'go ahead with payment {payment}', 'execute the payment {payment}', 'confirm that payment',
  ],
  risk_score: [
    'what is the fraud risk of {payment}', 'score {payment} for fraud', 'is payment {payment} risky', 'risk score of {payment}', 'how likely is {payment} to be fraud', 'check the fraud score on {payment}', 'run the risk model on payment {payment}', 'would {payment} be declined for risk', 'fraud check {payment}'
  ],
  payments_reconcile: [
    'reconcile payments', 'run the reconciliation', 'check payments against the provider', 'reconcile with the psp', 'find mismatches between ledger and provider',
  ],
  ledger_balances: [
    'show the ledger balances', 'what are our balances', 'balance in {currency}', 'how much money is in the ledger', 'ledger totals', 'show balances per account',
  ],
  ledger_accounts_list: [
    'list ledger accounts', 'show all accounts', 'which accounts are in the ledger', 'list the {currency} accounts', 'show asset accounts',
  ],
  ledger_transfers_list: [
    'list ledger transfers', 'show recent transfers', 'transfers of account {payee}', 'pending transfers', 'show the ledger movements',
  ],
  mandates_list: [
    'list mandates', 'show spending mandates', 'which agents can spend money', 'what mandates exist for {payee}', 'show all spending limits',
  ],
  mandate_create: [
    'give {payee} a mandate of {money} per month', 'create a mandate for {payee} up to {money}', 'allow {payee} to spend {money} a week',
    'set a spending limit of {money} per day for {payee}', 'grant {payee} a budget of {money}', 'authorise {payee} to pay up to {money} per payment for {duration}',
  ],
  mandate_revoke: [
    'revoke mandate {mandate}', 'cancel the mandate {mandate}', 'remove the spending permission {mandate}', 'revoke that mandate', 'take away mandate {mandate}',
  ],
  approvals_list: [
    'list approvals', 'what is waiting for approval', 'show pending approvals', 'anything I need to approve', 'which requests need my sign off',
  ],
  approval_decide: [
    'approve {approval}', 'deny {approval}', 'reject approval {approval}', 'approve the request {approval}', 'sign off on {approval}', 'decline {approval}',
  ],
  oos: [
    "find me cheap concert tickets", "what's on tv tonight", "book a taxi to the airport", "how do I cook pasta", "tell me the news", "write a birthday message for my sister", "what's the score of the game", "order flowers for my wife", "where can I buy a bike", "how far is the moon", "sing me a song", "make a dinner reservation", "shuffle my music", "is it going to rain today", "what year did the war end", "translate this letter to spanish",
    'book me a flight to paris', 'what is the weather tomorrow', 'tell me a joke', 'order a pizza', 'write a poem about the sea', 'who won the football match',
    'translate hello into german', 'what time is it in tokyo', 'play some music', 'set an alarm for 7', 'recommend a good movie', 'how tall is mount everest',
    'send an email to my boss', 'call my mother', 'buy me new shoes', 'what is the capital of france', 'remind me to water the plants', 'turn off the lights',
    'how do I bake bread', 'find a restaurant nearby', 'what is the meaning of life', 'schedule a meeting with bob', 'book a hotel room', 'convert 10 miles to km',
  ],
  vague: [
    "fix this", "repair it", "something went wrong", "make it faster", "sort it out please", "take care of it", "do what you think is best", "please help", "it's broken", "make this right",
    'do the thing', 'make it better', 'help', 'something is broken', 'handle it', 'sort this out', 'it does not work', 'can you take care of that',
    'do something', 'improve things', 'make it work', 'deal with the problem', 'clean up', 'go', 'the usual', 'just fix everything', 'what now',
  ],
};
