export { BackupError, backupName, parseBackupName, runBackup, type BackupOptions, type BackupResult } from "./backup";
export { DEFAULT_POLICY, isoWeekOf, selectRetained, type RetentionPolicy } from "./retention";
export { FileBackupStore, S3BackupStore, createS3Client, openBackupStore, readAll, type BackupStore, type StoredObject } from "./store";
