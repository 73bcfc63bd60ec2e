<?php

/*
 * The apps table of reverb-ts's database app provider (docs/apps.md): copy this
 * file into database/migrations/ (e.g. as 2026_01_01_000000_create_reverb_apps_table.php)
 * and run `php artisan migrate`. One column per app setting; NULL in a setting
 * column = the default. When the apps live on another connection than the
 * default (REVERB_APPS_DB_CONNECTION), set $connection below to its name.
 */

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

return new class extends Migration
{
    // protected $connection = 'mysql';

    public function up(): void
    {
        Schema::create('reverb_apps', function (Blueprint $table) {
            $table->string('id')->primary();
            $table->string('key')->unique();
            $table->string('secret');
            $table->boolean('enabled')->default(true);
            $table->text('allowed_origins')->nullable();
            $table->double('ping_interval')->nullable();
            $table->unsignedInteger('activity_timeout')->nullable();
            $table->double('pong_timeout')->nullable();
            $table->unsignedInteger('max_message_size')->nullable();
            $table->unsignedInteger('max_connections')->nullable();
            $table->string('accept_client_events_from', 16)->nullable();
            $table->boolean('rate_limiting_enabled')->nullable();
            $table->unsignedInteger('rate_limiting_max_attempts')->nullable();
            $table->double('rate_limiting_decay_seconds')->nullable();
            $table->boolean('rate_limiting_terminate_on_limit')->nullable();
            $table->double('cache_ttl')->nullable();
            $table->unsignedInteger('max_channels_per_connection')->nullable();
            $table->unsignedInteger('max_presence_members_per_channel')->nullable();
            $table->unsignedInteger('max_presence_user_info_size')->nullable();
            $table->unsignedInteger('max_messages_per_second')->nullable();
            $table->unsignedInteger('max_backend_events_per_second')->nullable();
            $table->unsignedInteger('max_read_requests_per_second')->nullable();
            $table->unsignedInteger('max_channel_name_length')->nullable();
            $table->unsignedInteger('max_event_name_length')->nullable();
            $table->unsignedInteger('max_event_payload_size')->nullable();
            $table->unsignedInteger('max_channels_per_event')->nullable();
            $table->unsignedInteger('max_batch_size')->nullable();
            $table->boolean('subscription_count_events')->nullable();
            $table->double('authorized_connections_timeout')->nullable();
            $table->boolean('watchlist_events')->nullable();
            $table->text('webhooks')->nullable();
            $table->boolean('webhook_batching_enabled')->nullable();
            $table->unsignedInteger('webhook_batching_window_ms')->nullable();
            $table->unsignedInteger('webhook_batching_max_events')->nullable();
            $table->timestamps();
        });
    }

    public function down(): void
    {
        Schema::dropIfExists('reverb_apps');
    }
};
