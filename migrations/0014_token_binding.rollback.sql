-- Without the id, tokens are issued without `iss`/`aud` by the code of before 0014 again.
DELETE FROM app_secrets WHERE name = 'deployment_id';
