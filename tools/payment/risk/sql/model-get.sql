select model, model_version, review_threshold, decline_threshold, pr_auc, evaluation
from {{schema}}.risk_models
where project = $1 and deployment = $2 and model = $3 and model_version = $4
