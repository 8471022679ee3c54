# frozen_string_literal: true

require "fileutils"

module HeapSift
  module Agent
    # Where dumps go. A store answers #put(key, path), raising on failure, and
    # #location(key), the full name to show users.
    module Store
      # A store from its description: "s3://bucket/prefix/" or a folder.
      def self.for(description)
        if description.respond_to?(:put)
          description
        elsif description.to_s.start_with?("s3://")
          require_relative "s3_store"
          S3Store.new(description)
        elsif description.to_s.empty?
          raise ArgumentError, "no store given (HEAPSIFT_STORE): an s3://bucket/prefix/ URL or a folder"
        else
          FolderStore.new(description)
        end
      end
    end

    # Keeps dumps in a local folder, for trying the agent out.
    class FolderStore
      def initialize(root)
        @root = File.expand_path(root)
      end

      # Copies the file to root/key through a temporary name, so a reader
      # never sees half a dump.
      def put(key, path)
        target = File.join(@root, key)
        FileUtils.mkdir_p(File.dirname(target))
        partial = "#{target}.partial-#{Process.pid}"
        FileUtils.cp(path, partial)
        File.rename(partial, target)
      ensure
        FileUtils.rm_f(partial) if partial && File.exist?(partial)
      end

      def location(key)
        File.join(@root, key)
      end
    end
  end
end
