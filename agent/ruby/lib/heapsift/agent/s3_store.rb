# frozen_string_literal: true

require "aws-sdk-s3"

module HeapSift
  module Agent
    # Keeps dumps in S3 or an S3-compatible server, under s3://bucket/prefix/.
    #
    # Credentials and region come from the usual AWS_* variables. An
    # S3-compatible server is named by AWS_ENDPOINT_URL (or
    # AWS_ENDPOINT_URL_S3, or AWS_ENDPOINT) and addressed path-style: older
    # aws-sdk-s3 releases, Debian's among them, do not read these variables
    # themselves. Big dumps go up in parts (multipart upload).
    class S3Store
      # Dumps above this size are uploaded in parts, several at a time.
      MULTIPART_THRESHOLD = 16 * 1024 * 1024
      # Parts in flight at once: enough to fill a link, few enough to leave
      # the app's threads alone.
      UPLOAD_THREADS = 4

      def initialize(url, env: ENV)
        match = %r{\As3://([^/]+)/?(.*)\z}.match(url)
        raise ArgumentError, "not an S3 URL (s3://bucket/prefix/): #{url}" unless match

        @bucket = match[1]
        @prefix = match[2]
        @prefix += "/" unless @prefix.empty? || @prefix.end_with?("/")
        @client = Aws::S3::Client.new(**self.class.client_options(env))
      end

      # Options for Aws::S3::Client from the environment. Failures are
      # retried twice, quickly: a dump that still fails goes to the spool.
      def self.client_options(env)
        options = {
          region: env["AWS_REGION"] || env["AWS_DEFAULT_REGION"] || "us-east-1",
          retry_limit: 2,
          http_open_timeout: 5,
          http_read_timeout: 60
        }
        endpoint = env["AWS_ENDPOINT_URL_S3"] || env["AWS_ENDPOINT_URL"] || env["AWS_ENDPOINT"]
        options.merge!(endpoint: endpoint, force_path_style: true) if endpoint && !endpoint.empty?
        options
      end

      # Uploads the file; raises when S3 did not take it (a multipart upload
      # that fails is aborted by the SDK).
      # `progress` is called with the bytes sent and the total of each part.
      def put(key, path, progress: nil)
        Aws::S3::Object.new(@bucket, @prefix + key, client: @client)
                       .upload_file(path, multipart_threshold: MULTIPART_THRESHOLD, thread_count: UPLOAD_THREADS,
                                          progress_callback: progress)
      end

      def location(key)
        "s3://#{@bucket}/#{@prefix}#{key}"
      end
    end
  end
end
