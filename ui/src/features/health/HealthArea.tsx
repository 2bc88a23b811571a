import { areaById } from '../../app/areas';
import { NotBuiltYet } from '../../components/NotBuiltYet';

export function HealthArea() {
  return (
    <NotBuiltYet
      area={areaById('health')}
      willDo="This area will show the health of every service and of the dispatcher, and say when a back-end cannot be reached."
      runbookProcedures={['Checking Deployment Status']}
    />
  );
}
