ALTER TABLE inventory RESET (fillfactor);
ALTER TABLE users RESET (fillfactor);
