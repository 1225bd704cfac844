select deployment, unscored_review_above from {{schema}}.risk_settings where project = $1
