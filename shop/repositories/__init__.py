"""All SQL, one module per aggregate. Functions take a connection and never open transactions."""
