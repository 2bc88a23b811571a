-- Small app-wide settings (the selected profile, intervals). Never secrets.
CREATE TABLE app_settings (
    key    TEXT PRIMARY KEY NOT NULL,
    value  TEXT NOT NULL
);
