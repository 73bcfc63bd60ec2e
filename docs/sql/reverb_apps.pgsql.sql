-- The apps table of reverb-ts's database app provider (docs/apps.md), PostgreSQL.
-- One column per app setting; NULL in a setting column = the default.
-- The same table as docs/sql/create_reverb_apps_table.php creates with Laravel.

create table "reverb_apps" (
  "id" varchar(255) not null primary key,
  "key" varchar(255) not null,
  "secret" varchar(255) not null,
  "enabled" boolean not null default true,
  "allowed_origins" text null,
  "ping_interval" double precision null,
  "activity_timeout" integer null,
  "pong_timeout" double precision null,
  "max_message_size" integer null,
  "max_connections" integer null,
  "accept_client_events_from" varchar(16) null,
  "rate_limiting_enabled" boolean null,
  "rate_limiting_max_attempts" integer null,
  "rate_limiting_decay_seconds" double precision null,
  "rate_limiting_terminate_on_limit" boolean null,
  "cache_ttl" double precision null,
  "max_channels_per_connection" integer null,
  "max_presence_members_per_channel" integer null,
  "max_presence_user_info_size" integer null,
  "max_messages_per_second" integer null,
  "max_backend_events_per_second" integer null,
  "max_read_requests_per_second" integer null,
  "max_channel_name_length" integer null,
  "max_event_name_length" integer null,
  "max_event_payload_size" integer null,
  "max_channels_per_event" integer null,
  "max_batch_size" integer null,
  "subscription_count_events" boolean null,
  "authorized_connections_timeout" double precision null,
  "watchlist_events" boolean null,
  "webhooks" text null,
  "webhook_batching_enabled" boolean null,
  "webhook_batching_window_ms" integer null,
  "webhook_batching_max_events" integer null,
  "created_at" timestamp(0) without time zone null,
  "updated_at" timestamp(0) without time zone null
);

alter table "reverb_apps" add constraint "reverb_apps_key_unique" unique ("key");
