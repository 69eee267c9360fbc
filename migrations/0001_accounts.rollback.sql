DROP TABLE app_secrets;
DROP TABLE users;
