/** Minimal typings for s3rver 3.7 (it ships none), covering what the S3 source test uses. */
declare module "s3rver" {
	interface S3rverOptions {
		address?: string;
		port?: number;
		silent?: boolean;
		directory?: string;
		configureBuckets?: { name: string; configs: (string | Buffer)[] }[];
	}
	class S3rver {
		constructor(options: S3rverOptions);
		run(): Promise<{ address: string; port: number }>;
		close(): Promise<void>;
	}
	export = S3rver;
}
