"""Move the state kept in `behavioral_metrics` into the columns of 0002.

`behavioral_metrics` held, beside display metrics, the struggle check (whose presence meant
"recommendations refreshed"), the weekly run's ISO week, the moment the difficulty changed
and the segment. Set-based SQL, so a large table moves in one statement each way.
"""

from django.db import migrations

FORWARD = """
UPDATE accounts_learnerprofile SET
    struggle = behavioral_metrics -> 'struggle',
    recommendations_refreshed_at = (behavioral_metrics #>> '{struggle,checked_at}')::timestamptz
WHERE behavioral_metrics ? 'struggle';

UPDATE accounts_learnerprofile SET
    weekly_adjusted_week = behavioral_metrics #>> '{weekly_adjustment,iso_week}'
WHERE behavioral_metrics #>> '{weekly_adjustment,iso_week}' IS NOT NULL;

UPDATE accounts_learnerprofile SET
    difficulty_changed_at = (behavioral_metrics ->> 'difficulty_changed_at')::timestamptz
WHERE behavioral_metrics ->> 'difficulty_changed_at' IS NOT NULL;

UPDATE accounts_learnerprofile SET segment = behavioral_metrics -> 'segment'
WHERE jsonb_typeof(behavioral_metrics -> 'segment') = 'object';

UPDATE accounts_learnerprofile SET
    behavioral_metrics = (behavioral_metrics - 'struggle' - 'difficulty_changed_at' - 'segment')
        || CASE WHEN behavioral_metrics ? 'weekly_adjustment'
           THEN jsonb_build_object(
               'weekly_adjustment', (behavioral_metrics -> 'weekly_adjustment') - 'iso_week')
           ELSE '{}'::jsonb END
WHERE behavioral_metrics ?| array['struggle', 'difficulty_changed_at', 'segment',
                                  'weekly_adjustment'];
"""

BACKWARD = """
UPDATE accounts_learnerprofile SET behavioral_metrics = behavioral_metrics
    || CASE WHEN struggle IS NULL THEN '{}'::jsonb
       ELSE jsonb_build_object('struggle', struggle) END
    || CASE WHEN segment IS NULL THEN '{}'::jsonb
       ELSE jsonb_build_object('segment', segment) END
    || CASE WHEN difficulty_changed_at IS NULL THEN '{}'::jsonb
       ELSE jsonb_build_object('difficulty_changed_at',
                               to_jsonb(difficulty_changed_at)) END
    || CASE WHEN weekly_adjusted_week = '' THEN '{}'::jsonb
       ELSE jsonb_build_object('weekly_adjustment',
            coalesce(behavioral_metrics -> 'weekly_adjustment', '{}'::jsonb)
            || jsonb_build_object('iso_week', weekly_adjusted_week)) END;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_profile_state_columns"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
